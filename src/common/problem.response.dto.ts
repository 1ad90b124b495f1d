import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

@ApiSchema({
  name: 'Problem',
  description: 'RFC 9457 problem details, media type application/problem+json.',
})
export class ProblemResponseDto {
  @ApiProperty({
    description: 'URI naming the kind of problem.',
    example: 'urn:maxconf:problem:validation',
  })
  readonly type: string;

  @ApiProperty({ example: 'Invalid uuiData' })
  readonly title: string;

  @ApiProperty({ example: 400 })
  readonly status: number;

  @ApiProperty({
    example: 'uuiData payload must contain hex digits only',
  })
  readonly detail: string;

  @ApiProperty({
    description:
      'Id of the request, also in the X-Request-Id header and the logs.',
    example: '0f8c1c9e-3b1e-4a3c-9c43-2f6f1d0b5a77',
  })
  readonly request_id: string;

  @ApiPropertyOptional({
    description: 'Field → messages, on validation failures.',
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
    example: { uuiData: ['uuiData payload must contain hex digits only'] },
  })
  readonly errors?: Record<string, string[]>;
}

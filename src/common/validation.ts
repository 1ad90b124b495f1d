import {
  ArgumentMetadata,
  Injectable,
  PipeTransform,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import { ProblemException, ProblemType } from './problem';

/**
 * Flattens class-validator errors to `field → messages`, with dotted paths
 * for nested fields, as the `errors` member of a problem answer.
 */
export function validationErrorsByField(
  errors: ValidationError[],
  parent = '',
): Record<string, string[]> {
  const byField: Record<string, string[]> = {};
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    if (error.constraints) {
      byField[field] = Object.values(error.constraints);
    }
    if (error.children?.length) {
      Object.assign(byField, validationErrorsByField(error.children, field));
    }
  }
  return byField;
}

/**
 * The pipe every route uses. Unknown body fields are refused, so a typo in
 * a PATCH never silently does nothing. Unknown query parameters are
 * dropped instead: gateways and clients add their own (a subscription key,
 * a cache buster), and the service this one replaces ignored them too.
 * Failures answer 400 with every field's messages.
 */
@Injectable()
export class RequestValidationPipe implements PipeTransform {
  private readonly strict = validationPipe(true);
  private readonly lenient = validationPipe(false);

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    return metadata.type === 'body'
      ? this.strict.transform(value, metadata)
      : this.lenient.transform(value, metadata);
  }
}

function validationPipe(forbidUnknown: boolean): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: forbidUnknown,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const byField = validationErrorsByField(errors);
      const fields = Object.keys(byField);
      return new ProblemException(
        400,
        'Invalid request',
        fields.length === 1
          ? `${fields[0]}: ${byField[fields[0]].join('; ')}`
          : `${fields.length} fields are invalid: ${fields.join(', ')}.`,
        { type: ProblemType.validation, errors: byField },
      );
    },
  });
}

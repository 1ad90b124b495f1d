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
      byField[field] = [...new Set(Object.values(error.constraints))];
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
    if (metadata.type !== 'body') {
      return this.lenient.transform(value, metadata);
    }
    refuseObjectMachinery(value);
    return this.strict.transform(value, metadata);
  }
}

/**
 * Keys that name JavaScript's object machinery are never fields of ours.
 * The validation pipe strips `__proto__` silently and lets `constructor`
 * through to the instance it builds, so they are refused here, by name.
 */
const RESERVED_KEYS = ['__proto__', 'constructor', 'prototype'];

function refuseObjectMachinery(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const found = RESERVED_KEYS.filter((key) => Object.hasOwn(body, key));
  if (found.length > 0) {
    throw new ProblemException(
      400,
      'Invalid request',
      `${found.join(', ')}: not a field of this request`,
      {
        type: ProblemType.validation,
        errors: Object.fromEntries(
          found.map((key) => [key, [`property ${key} should not exist`]]),
        ),
      },
    );
  }
}

function validationPipe(forbidUnknown: boolean): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: forbidUnknown,
    transform: true,
    // One message per field: the first rule it breaks, not every rule.
    stopAtFirstError: true,
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

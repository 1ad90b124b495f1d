/**
 * Field-by-field validation of a resource body, the way Django model
 * validation behind Pexip's Tastypie API treats it: values are coerced
 * leniently (`"10"` is an integer, `"true"` a boolean), then checked against
 * null, blank, length, choice and range rules, and every failing field gets
 * its own list of messages.
 */

export type FieldValue = string | number | boolean | null;

export type FieldErrors = Record<string, string[]>;

export interface FieldSpec {
  type: 'string' | 'integer' | 'boolean' | 'related';
  /** Value when the body leaves the field out; absent means required. */
  default?: FieldValue;
  nullable?: boolean;
  /** Whether `''` is allowed for a string; true unless said otherwise. */
  blank?: boolean;
  maxLength?: number;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** A predicate with its message, for rules such as the PIN format. */
  format?: { test: (value: string) => boolean; message: string };
}

export type FieldSpecs = Readonly<Record<string, FieldSpec>>;

export interface CleanedFields {
  values: Record<string, FieldValue>;
  errors: FieldErrors;
}

const TRUE_WORDS = new Set(['true', 'True', 't', '1']);
const FALSE_WORDS = new Set(['false', 'False', 'f', '0']);

/**
 * Merges `input` over `current` (or over the defaults when creating),
 * coerces every value and validates the whole result, as a save would.
 * Keys of `input` that are not in `specs` are ignored, like Tastypie does.
 *
 * @param specs the resource's writable fields
 * @param input the request body
 * @param current the stored values when updating, `undefined` when creating
 * @example cleanFields(specs, { name: 'room' }, undefined).errors // {}
 */
export function cleanFields(
  specs: FieldSpecs,
  input: Record<string, unknown>,
  current: Record<string, FieldValue> | undefined,
): CleanedFields {
  const values = { ...shapeOf(specs) };
  const errors: FieldErrors = {};

  for (const [field, spec] of Object.entries(specs)) {
    const given = Object.prototype.hasOwnProperty.call(input, field);
    let raw: unknown;
    if (given) raw = input[field];
    else if (current) raw = current[field];
    else if (spec.default !== undefined) raw = spec.default;
    else {
      errors[field] = ['This field is required.'];
      continue;
    }

    const outcome = cleanValue(spec, raw);
    if ('error' in outcome) errors[field] = [outcome.error];
    else values[field] = outcome.value;
  }

  return { values, errors };
}

const shapes = new WeakMap<FieldSpecs, Record<string, FieldValue>>();

/**
 * An object with every field of `specs`. Copies of it keep V8's fast
 * property layout, which an object grown key by key past a few dozen keys
 * loses; list filters read these objects tens of thousands of times.
 */
function shapeOf(specs: FieldSpecs): Record<string, FieldValue> {
  let shape = shapes.get(specs);
  if (!shape) {
    shape = Object.fromEntries(Object.keys(specs).map((key) => [key, null]));
    shapes.set(specs, shape);
  }
  return shape;
}

/**
 * Coerces and checks one value.
 *
 * @returns the cleaned value, or the message explaining why it is refused
 */
export function cleanValue(
  spec: FieldSpec,
  raw: unknown,
): { value: FieldValue } | { error: string } {
  if (raw === null || raw === undefined) {
    return spec.nullable
      ? { value: null }
      : { error: 'This field cannot be null.' };
  }

  switch (spec.type) {
    case 'boolean':
      return cleanBoolean(raw);
    case 'integer':
      return cleanInteger(spec, raw);
    case 'related':
      return typeof raw === 'string'
        ? { value: raw }
        : { error: `'${describe(raw)}' is not a resource URI.` };
    default:
      return cleanString(spec, raw);
  }
}

function cleanBoolean(raw: unknown): { value: boolean } | { error: string } {
  if (typeof raw === 'boolean') return { value: raw };
  if (raw === 1 || (typeof raw === 'string' && TRUE_WORDS.has(raw))) {
    return { value: true };
  }
  if (raw === 0 || (typeof raw === 'string' && FALSE_WORDS.has(raw))) {
    return { value: false };
  }
  return { error: `'${describe(raw)}' value must be either True or False.` };
}

function cleanInteger(
  spec: FieldSpec,
  raw: unknown,
): { value: number } | { error: string } {
  let value: number | undefined;
  if (typeof raw === 'number' && Number.isInteger(raw)) value = raw;
  if (typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)) value = +raw;
  if (value === undefined) {
    return { error: `'${describe(raw)}' value must be an integer.` };
  }

  if (spec.min !== undefined && value < spec.min) {
    return {
      error: `Ensure this value is greater than or equal to ${spec.min}.`,
    };
  }
  if (spec.max !== undefined && value > spec.max) {
    return { error: `Ensure this value is less than or equal to ${spec.max}.` };
  }
  return { value };
}

function cleanString(
  spec: FieldSpec,
  raw: unknown,
): { value: string } | { error: string } {
  // Django turns numbers into text for a text column; anything else is junk.
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    return { error: `'${describe(raw)}' is not a valid text value.` };
  }
  const value = String(raw);

  if (value === '') {
    return spec.blank === false
      ? { error: 'This field cannot be blank.' }
      : { value };
  }
  if (spec.maxLength !== undefined && value.length > spec.maxLength) {
    return {
      error: `Ensure this value has at most ${spec.maxLength} characters (it has ${value.length}).`,
    };
  }
  if (spec.choices && !spec.choices.includes(value)) {
    return { error: `Value '${value}' is not a valid choice.` };
  }
  if (spec.format && !spec.format.test(value)) {
    return { error: spec.format.message };
  }
  return { value };
}

function describe(raw: unknown): string {
  return typeof raw === 'object' ? JSON.stringify(raw) : String(raw);
}

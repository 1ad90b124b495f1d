import { cleanFields, cleanValue, FieldSpecs } from './field.validator';

describe('field validation', () => {
  const specs: FieldSpecs = {
    name: { type: 'string', blank: false, maxLength: 5 },
    kind: { type: 'string', default: 'a', choices: ['a', 'b'], blank: false },
    limit: { type: 'integer', default: null, nullable: true, min: 0, max: 10 },
    on: { type: 'boolean', default: false },
  };

  it('fills defaults and reports a missing required field', () => {
    const { values, errors } = cleanFields(specs, {}, undefined);

    expect(errors).toEqual({ name: ['This field is required.'] });
    expect(values).toMatchObject({ kind: 'a', limit: null, on: false });
  });

  it('ignores keys that are not fields', () => {
    const { values, errors } = cleanFields(
      specs,
      { name: 'x', surprise: 1 },
      undefined,
    );

    expect(errors).toEqual({});
    expect(values).not.toHaveProperty('surprise');
  });

  it('merges an update over the current values and re-checks them all', () => {
    const current = { name: 'old', kind: 'b', limit: 3, on: true };

    expect(cleanFields(specs, { limit: '7' }, current)).toEqual({
      values: { name: 'old', kind: 'b', limit: 7, on: true },
      errors: {},
    });
  });

  it('coerces the values Django would accept', () => {
    expect(cleanValue(specs.on, 'True')).toEqual({ value: true });
    expect(cleanValue(specs.on, 0)).toEqual({ value: false });
    expect(cleanValue(specs.limit, ' 4 ')).toEqual({ value: 4 });
    expect(cleanValue(specs.name, 123)).toEqual({ value: '123' });
  });

  it.each([
    ['name', '', 'This field cannot be blank.'],
    ['name', null, 'This field cannot be null.'],
    [
      'name',
      'toolong',
      'Ensure this value has at most 5 characters (it has 7).',
    ],
    ['name', ['x'], `'["x"]' is not a valid text value.`],
    ['kind', 'c', "Value 'c' is not a valid choice."],
    ['kind', '', 'This field cannot be blank.'],
    ['limit', 1.5, "'1.5' value must be an integer."],
    ['limit', -1, 'Ensure this value is greater than or equal to 0.'],
    ['limit', 11, 'Ensure this value is less than or equal to 10.'],
    ['on', 'yes', "'yes' value must be either True or False."],
  ])('refuses %s = %j with "%s"', (field, raw, message) => {
    expect(cleanValue(specs[field], raw)).toEqual({ error: message });
  });
});

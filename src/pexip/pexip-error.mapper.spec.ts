import { AxiosHeaders, AxiosResponse } from 'axios';
import {
  errorForResponse,
  readErrorBody,
  saysAlreadyExists,
} from './pexip-error.mapper';
import {
  PexipNotFoundError,
  PexipRejectedError,
  PexipUnavailableError,
} from './pexip.errors';

function response(status: number, data: unknown): AxiosResponse {
  return {
    status,
    statusText: '',
    headers: {},
    config: { headers: new AxiosHeaders() },
    data,
  };
}

describe('readErrorBody', () => {
  it('reads validation messages keyed by resource, then field', () => {
    const body = {
      conference: {
        name: ['Virtual Meeting Room with this Name already exists.'],
        pin: ['Enter a valid PIN.', 'Too short.'],
      },
    };

    expect(readErrorBody(body)).toEqual({
      message:
        'name: Virtual Meeting Room with this Name already exists.; pin: Enter a valid PIN. Too short.',
      fieldErrors: {
        name: ['Virtual Meeting Room with this Name already exists.'],
        pin: ['Enter a valid PIN.', 'Too short.'],
      },
    });
  });

  it('reads validation messages of any resource, a lone string included', () => {
    const body = { automatic_participant: { alias: 'Already exists.' } };

    expect(readErrorBody(body).fieldErrors).toEqual({
      alias: ['Already exists.'],
    });
  });

  it('reads {"error": …} and names the field when the text does', () => {
    const text =
      "The 'name' field has no data and doesn't allow a default or null value.";

    expect(readErrorBody({ error: text })).toEqual({
      message: text,
      fieldErrors: { name: [text] },
    });
  });

  it('reads {"error": …} without a field', () => {
    expect(readErrorBody({ error: "Invalid limit '-1' provided." })).toEqual({
      message: "Invalid limit '-1' provided.",
      fieldErrors: {},
    });
  });

  it('reads the canned {"error_message": …} of a server error', () => {
    expect(
      readErrorBody({
        error_message: 'Sorry, this request could not be processed.',
      }),
    ).toEqual({
      message: 'Sorry, this request could not be processed.',
      fieldErrors: {},
    });
  });

  it('quotes a body that is not JSON, shortened', () => {
    const result = readErrorBody('<html>' + 'x'.repeat(1000));

    expect(result.message).toHaveLength(301);
    expect(result.message.startsWith('<html>')).toBe(true);
    expect(result.fieldErrors).toEqual({});
  });

  it('says nothing about an empty body', () => {
    expect(readErrorBody('')).toEqual({ message: '', fieldErrors: {} });
  });
});

describe('errorForResponse', () => {
  it('maps 400 to PexipRejectedError with the field messages', () => {
    const error = errorForResponse(
      response(400, { conference: { pin: ['Enter a valid PIN.'] } }),
      'PATCH conference 7',
    );

    expect(error).toBeInstanceOf(PexipRejectedError);
    expect(error.message).toBe(
      'Pexip rejected PATCH conference 7: pin: Enter a valid PIN.',
    );
    expect((error as PexipRejectedError).fieldErrors).toEqual({
      pin: ['Enter a valid PIN.'],
    });
  });

  it('maps 404 to PexipNotFoundError', () => {
    const error = errorForResponse(response(404, ''), 'GET conference 7');

    expect(error).toBeInstanceOf(PexipNotFoundError);
    expect(error.message).toBe('Pexip found nothing for GET conference 7');
  });

  it.each([429, 500, 502, 503, 405])(
    'maps %i to PexipUnavailableError with the status',
    (status) => {
      const error = errorForResponse(response(status, ''), 'GET conference 7');

      expect(error).toBeInstanceOf(PexipUnavailableError);
      expect((error as PexipUnavailableError).status).toBe(status);
    },
  );

  it('puts the text of a server error in the message', () => {
    const error = errorForResponse(
      response(500, { error_message: 'Sorry.' }),
      'POST conference "a"',
    );

    expect(error.message).toBe(
      'Pexip answered 500 to POST conference "a": Sorry.',
    );
  });
});

describe('saysAlreadyExists', () => {
  it('finds the duplicate-name message', () => {
    const error = errorForResponse(
      response(400, {
        conference: {
          name: ['Virtual Meeting Room with this Name already exists.'],
        },
      }),
      'POST',
    ) as PexipRejectedError;

    expect(saysAlreadyExists(error)).toBe(true);
  });

  it('does not take another rejection for a duplicate', () => {
    const error = errorForResponse(
      response(400, { conference: { pin: ['Enter a valid PIN.'] } }),
      'POST',
    ) as PexipRejectedError;

    expect(saysAlreadyExists(error)).toBe(false);
  });
});

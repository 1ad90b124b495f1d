/** The contract's example: host `id`, video call id `123456,765432`. */
export const EXAMPLE_UUI =
  '6964264d54497a4e4455324c4463324e54517a4d67;encoding=hex';
/** The tag the default template builds for `EXAMPLE_UUI`. */
export const EXAMPLE_TAG =
  'https://id.gov.bc.ca/idcheck/protected/video/MTIzNDU2LDc2NTQzMg';

/**
 * The `uuiData` of an identity check: hex of `<host>&<video_call_id>`,
 * then `suffix`. Latin-1, as the service decodes it.
 *
 * @example uuiFor('id', 'call-1') // '6964…;encoding=hex'
 */
export function uuiFor(
  host: string,
  videoCallId: string,
  suffix = ';encoding=hex',
): string {
  const hex = Buffer.from(`${host}&${videoCallId}`, 'latin1').toString('hex');
  return `${hex}${suffix}`;
}

/** The tag a room gets for `uuiFor(host, videoCallId)` by default. */
export function tagFor(host: string, videoCallId: string): string {
  return `https://${host}.gov.bc.ca/idcheck/protected/video/${videoCallId}`;
}

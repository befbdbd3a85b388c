/** Header names a `respond` step may set: tokens of RFC 9110 (the server owns some, see steps/respond.ts). */
export const RESPONSE_HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;

/** STUN test vectors shared by the codec and the server tests. */

export const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'))
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

export const TRANSACTION_ID = hex('b7e7a701 bc34d686 fa87dfae')

// RFC 5769 section 2.1: USERNAME, MESSAGE-INTEGRITY (short-term credentials), ICE's PRIORITY and
// ICE-CONTROLLED, SOFTWARE and FINGERPRINT; the padding bytes are spaces on purpose
export const RFC5769_REQUEST = hex(`
  00 01 00 58  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 10  53 54 55 4e  20 74 65 73  74 20 63 6c  69 65 6e 74
  00 24 00 04  6e 00 01 ff
  80 29 00 08  93 2f f9 b1  51 26 3b 36
  00 06 00 09  65 76 74 6a  3a 68 36 76  59 20 20 20
  00 08 00 14  9a ea a7 0c  bf d8 cb 56  78 1e f2 b5  b2 d3 f2 49  c1 b5 71 a2
  80 28 00 04  e5 7a 3b cf`)

// our 420 to it, fixed because the transaction id is; Wireshark's STUN dissector reads it back
export const ERROR_420 = hex(`
  01 11 00 3c  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  00 09 00 15  00 00 04 14  55 6e 6b 6e  6f 77 6e 20  41 74 74 72  69 62 75 74  65 00 00 00
  00 0a 00 02  00 24 00 00
  80 22 00 09  61 67 65 6e  74 6d 65 73  68 00 00 00
  80 28 00 04  13 8d c8 83`)

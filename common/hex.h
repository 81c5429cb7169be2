/* Hex text <-> bytes for hashes, addresses and calldata ("0x"-prefixed, as the
 * Ethereum JSON-RPC writes them). */
#ifndef MP_HEX_H
#define MP_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes "0x" + 2*n lowercase hex digits + NUL into out (size >= 2*n + 3).
 * Returns the number of characters written, without the NUL. */
size_t mp_hex_encode(char *out, const uint8_t *bytes, size_t n);

/* Decodes exactly n bytes from text of length len ("0x" prefix optional, any case).
 * Returns 0, or -EINVAL when the text is not exactly 2*n hex digits. */
int mp_hex_decode_fixed(uint8_t *out, size_t n, const char *text, size_t len);

/* Decodes up to cap bytes of variable-length hex (calldata); *out_len receives the full
 * decoded length even when only cap bytes were stored. Returns 0, or -EINVAL on a
 * non-hex character or an odd digit count. */
int mp_hex_decode_prefix(uint8_t *out, size_t cap, size_t *out_len, const char *text, size_t len);

/* Parses a "0x"-prefixed hex quantity (JSON-RPC number) of at most 64 bits.
 * Returns 0, -EINVAL on bad syntax, -ERANGE when it does not fit. */
int mp_hex_u64(uint64_t *out, const char *text, size_t len);

#endif

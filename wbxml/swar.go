package wbxml

import "math/bits"

// Eight bytes at a time ("SIMD within a register"): the decoder and the encoder
// look for the NUL that ends a string and for non-ASCII bytes (the only ones that
// need UTF-8 validation) a 64-bit word at a time.
const (
	swarLow  = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// firstZero returns the index (0-7) of the first zero byte of the little-endian word
// w, or -1. The classic test (w - 0x01...) &^ w & 0x80... flags every zero byte, and
// may also flag bytes above a zero (a borrow runs upward from it), but never a byte
// below the first zero: so the lowest flag is exact.
func firstZero(w uint64) int {
	z := (w - swarLow) &^ w & swarHigh
	if z == 0 {
		return -1
	}
	return bits.TrailingZeros64(z) >> 3
}

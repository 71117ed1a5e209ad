package jsontext

import (
	"encoding/json"
	"math/rand"
	"testing"
)

// AppendString writes what encoding/json writes for a string, for every byte value
// and for random mixes of ASCII, multi-byte runes and invalid UTF-8.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	cases := []string{"", "plain", `"\`, "<a href='x'>&amp;</a>", "\u2028\u2029", "\xff\xfe", "ünï ✓ 🙂"}
	for c := 0; c < 256; c++ {
		cases = append(cases, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	rng := rand.New(rand.NewSource(1))
	pieces := []string{"a", "Z", " ", "\n", "\x00", "\x1f", "<", "&", "\"", "\\", "é", "中", "🙂", "\u2028", "\xc3", "\xed\xa0\x80"}
	for i := 0; i < 2000; i++ {
		s := ""
		for n := rng.Intn(12); n > 0; n-- {
			s += pieces[rng.Intn(len(pieces))]
		}
		cases = append(cases, s)
	}
	for _, s := range cases {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s, encoding/json writes %s", s, got, want)
		}
	}
}

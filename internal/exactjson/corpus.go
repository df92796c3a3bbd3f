package exactjson

import "math/rand/v2"

// AwkwardValues are stored values that a path which re-encodes JSON would
// change: whitespace inside and around, <, > and &, U+2028 and U+2029,
// numbers beyond float64, duplicate keys, invalid UTF-8, binary, and the
// empty value. The tests of every path that carries values (export and
// import, watch messages, on workerd too) start from them.
var AwkwardValues = []string{
	``, ` `, `{"a": 1}`, "{\n  \"a\": 1\n}\n", `  "padded"  `, ` {"a":1}`, `{"a":1} `,
	"{\"a\":1}\r\n", "{\t\"a\":\t1}", "\t[1,\t2]", `"<b>&amp;</b>"`,
	`{"html":"<script>alert(1)</script>","amp":"&"}`, "\"\u2028\u2029\"", `"\u2028"`,
	`123456789012345678901234567890.123456789e-400`, `-0`, `1E+2`, `{"a":1,"a":2}`,
	`[1,[2,[3]]]`, `"\ud800"`, "\"\xff\xfe\"", "\xff", "\xff\x00\x01", "not json", "plain text",
	`null`, `true`, `"é 中文 😀"`, "\x00\x01\x02", `{"a":"\"quoted\"","b":"\\"}`,
}

// Corpus returns AwkwardValues followed by n random byte strings of up to
// maxLen bytes, drawn from a generator seeded with seed, so that a test of
// a path that carries values runs on the same mix everywhere.
func Corpus(seed uint64, n, maxLen int) [][]byte {
	values := make([][]byte, 0, len(AwkwardValues)+n)
	for _, v := range AwkwardValues {
		values = append(values, []byte(v))
	}
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for range n {
		v := make([]byte, rng.IntN(maxLen+1))
		for i := range v {
			v[i] = byte(rng.IntN(256))
		}
		values = append(values, v)
	}
	return values
}

package features

import (
	"math"
	"strconv"
)

// AppendJSON appends v as one JSON object: start_ns, end_ns, then every
// feature by name in ID order; NaN (no source) is null.
func (v *Vector) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"start_ns":`...)
	dst = strconv.AppendUint(dst, v.StartNs, 10)
	dst = append(dst, `,"end_ns":`...)
	dst = strconv.AppendUint(dst, v.EndNs, 10)
	for i := ID(0); i < Count; i++ {
		dst = append(dst, ',', '"')
		dst = append(dst, names[i]...)
		dst = append(dst, '"', ':')
		x := v.Values[i]
		if math.IsNaN(x) || math.IsInf(x, 0) {
			dst = append(dst, "null"...)
		} else {
			dst = strconv.AppendFloat(dst, x, 'f', -1, 64)
		}
	}
	return append(dst, '}')
}

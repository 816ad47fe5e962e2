package features

import (
	"math"
	"strconv"

	"github.com/ainka/ainka/stages/decode"
)

// AppendJSON appends v as one JSON object: start_ns, end_ns, then every
// feature by name in ID order (NaN, no source, is null), the probe
// plugins' features ("probes", by PLUGIN.FEATURE, when there are any),
// then the "tasks" and "devices" tables.
func (v *Vector) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"start_ns":`...)
	dst = strconv.AppendUint(dst, v.StartNs, 10)
	dst = append(dst, `,"end_ns":`...)
	dst = strconv.AppendUint(dst, v.EndNs, 10)
	for i := ID(0); i < Count; i++ {
		dst = append(dst, ',', '"')
		dst = append(dst, names[i]...)
		dst = append(dst, '"', ':')
		dst = appendNum(dst, v.Values[i])
	}
	if v.NumProbe > 0 {
		dst = append(dst, `,"probes":{`...)
		for i, name := range v.ProbeNames() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendQuote(dst, name)
			dst = append(dst, ':')
			dst = appendNum(dst, v.Probe[i])
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"tasks":[`...)
	for i := 0; i < v.NumTasks; i++ {
		t := &v.Tasks[i]
		dst = openRow(dst, i, "pid", uint64(t.PID))
		dst = append(dst, `,"comm":`...)
		dst = decode.AppendComm(dst, &t.Comm)
		dst = append(dst, `,"runs":`...)
		dst = strconv.AppendUint(dst, t.Runs, 10)
		dst = appendField(dst, "cpu_share", t.CPUShare)
		dst = appendField(dst, "mean_run_us", t.MeanRunUs)
		dst = appendField(dst, "voluntary_per_s", t.VoluntaryPerS)
		dst = appendField(dst, "involuntary_per_s", t.InvoluntaryPerS)
		dst = appendField(dst, "wakeups_per_s", t.WakeupsPerS)
		dst = appendField(dst, "runq_us", t.RunqUs)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"devices":[`...)
	for i := 0; i < v.NumDevices; i++ {
		d := &v.Devices[i]
		dst = openRow(dst, i, "major", uint64(d.Dev>>20))
		dst = append(dst, `,"minor":`...)
		dst = strconv.AppendUint(dst, uint64(d.Dev&(1<<20-1)), 10)
		dst = append(dst, `,"ios":`...)
		dst = strconv.AppendUint(dst, d.IOs, 10)
		dst = appendField(dst, "iops", d.IOPS)
		dst = appendField(dst, "read_bytes_per_s", d.ReadBytesPerS)
		dst = appendField(dst, "write_bytes_per_s", d.WriteBytesPerS)
		dst = appendField(dst, "seq_ratio", d.SeqRatio)
		dst = appendField(dst, "mean_latency_us", d.MeanLatencyUs)
		dst = appendField(dst, "mean_request_kib", d.MeanRequestKiB)
		dst = appendField(dst, "read_requests_pct", d.ReadRequestsPct)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	dst = v.appendNetnsJSON(dst)
	return append(dst, '}')
}

// openRow starts row i of a table: a comma after the first, then the
// row's first field, an integer.
func openRow(dst []byte, i int, name string, x uint64) []byte {
	if i > 0 {
		dst = append(dst, ',')
	}
	dst = append(dst, `{"`...)
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return strconv.AppendUint(dst, x, 10)
}

func appendField(dst []byte, name string, x float64) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendNum(dst, x)
}

// appendNum writes x in shortest 'f' form, NaN and ±Inf as null.
func appendNum(dst []byte, x float64) []byte {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, x, 'f', -1, 64)
}

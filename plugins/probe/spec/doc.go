// Package spec is what the pipeline knows of a probe plugin's record kind
// (package plugins/probe): its number, the record's size and fields, and
// the features to derive from it. It is a leaf package so that decode,
// aggregate and features can share it without importing the loader (and
// cilium/ebpf).
//
// Plugin kinds are numbered from KindBase, far above the built-in kinds of
// bpf/ainka_record.h (which stay dense from 1), so the two never collide
// when the built-in enum grows. A plugin record is AINKA's 40-byte header
// followed by at most MaxPayload bytes: it fits decode.Event like every
// built-in record, so a plugin kind costs the pipeline no allocation.
//
//	set, err := spec.NewSet([]spec.Kind{k})  // checks and numbers the features
//	set.Lookup(kind) *spec.Kind; set.Size(kind); set.FeatureNames()
package spec

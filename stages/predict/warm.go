package predict

// Warm counts the per-feature detectors past their warm-up, out of all of
// them: until a detector is warm it scores 0 by construction, so this is
// how far learning has got (`ainka-cli status`).
func (s *Stage) Warm() (warm, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.det {
		if s.det[i].S.N > int64(s.det[i].Params().Warmup) {
			warm++
		}
	}
	return warm, len(s.det)
}

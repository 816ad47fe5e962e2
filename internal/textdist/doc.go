// Package textdist measures how far apart two words are, for the "did you
// mean" hints of the configuration and policy parsers.
package textdist

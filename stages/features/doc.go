// Package features turns window aggregates into a fixed, named feature
// vector: the input of every learner and policy downstream.
package features

// Package tomlguard checks a TOML text's size and nesting before it is
// decoded. The decoder (BurntSushi/toml) takes time superlinear in the
// depth of nested inline tables and arrays: 12 KB of {a = {a = …}} takes
// 6 s to decode, 20 KB over a minute. AINKA's configuration and policy
// files nest two or three levels deep, so a bound far above that costs a
// real file nothing and refuses a hostile or garbled one at once, with its
// line.
package tomlguard

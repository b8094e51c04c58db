// Package config loads, overlays and validates teaphone's TOML configuration.
//
// The order is fixed: [Default], then the file ([Load], strict: unknown keys are
// errors), then a few environment variables ([Config.ApplyEnv]), then command-line
// flags ([Config.ApplyOverrides]), and finally [Config.Validate] once. Every error
// names the TOML key path and, when the value came from the file, its line.
//
// Passwords never appear in String, GoString, slog or JSON output of an [Account]
// or a [Config]; use [Account.ResolvePassword] to obtain one.
package config

//! Which provider answers `infer`: from CLI flags, then the environment
//! (`TURN_PROVIDER`, `TURN_MODEL` and each provider's usual variables), then
//! `turn.toml`, then the default.

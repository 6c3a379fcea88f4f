//! Callback URL verification and message crypto (plain, compatible and safe mode).
//! (Being written for issue 4.)

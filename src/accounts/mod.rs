//! Who someone is: buyers' tokens (`auth`) and sign-in (`signin`), staff
//! sessions (`sessions`), password hashing off the request workers
//! (`passwords`), and the counters that throttle guessing (`throttle`).

pub mod auth;
pub mod passwords;
pub mod sessions;
pub mod signin;
pub mod throttle;

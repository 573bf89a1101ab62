//! Composition of the components into one process. `main.rs` parses the command line;
//! tests call [`startup::serve`] directly with a listener on port 0.

mod first_scrape;
pub mod operators;
pub mod settings;
pub mod startup;
pub mod telemetry;

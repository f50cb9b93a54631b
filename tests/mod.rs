mod cli;
mod models;
mod requests;
mod support;

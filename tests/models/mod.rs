mod demo;
mod users;

"""Great Expectations suites (versioned JSON beside this file) and the code that runs them."""

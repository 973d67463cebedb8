// NOTE: a stand-in entry point so that the solution and the test project build until the CLI is written.
return 0;

-- merx serve configuration (docs/cli/serve.md): a Lua table evaluated
-- in the sandbox; unknown keys are errors. Relative paths are relative to
-- this file.
return {
  listen = "127.0.0.1:8080",
  model = "models/shop.mxm",          -- reloaded on SIGHUP or when the file changes
  token_file = "secrets/tokens.txt",  -- one bearer token per line
  store = "store",                    -- the deployment's ledger (decisions)
  threads = 32,                       -- requests handled at once
  max_queue = 1024,                   -- waiting beyond the handlers; more get 503
  max_body = 1048576,                 -- bytes; larger bodies get 413
  timeout = 2,                        -- seconds per request (504 past it)
  access_log = "-",                   -- "-" = stderr, a file, or false
  recommend = {
    batch = 32,                       -- users scored together in one matrix product
    batch_wait_ms = 0.5,              -- how long a batch waits for company
    unknown_user = "popular",         -- or "error" (404)
    explain_top = 3,                  -- history items per explanation
  },
}

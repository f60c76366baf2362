"""The checks of a provider plugin, defined once for the two places that run them.

``fapiao selftest`` (``fapiao.tools.selftest``) runs them against a configured profile or a
sandbox before go-live, collecting evidence; the conformance suite
(``fapiao.testing.conformance``) runs them as pytest tests against a plugin's sandbox. No
module here imports pytest: selftest runs in production.

``check.py`` says what a check is (id, bilingual title, the declaration it applies to, the
runners, a coroutine taking a ``CheckContext`` of ``context.py`` and returning evidence or
raising ``CheckFailed``, or ``CheckSkipped`` when the environment cannot do it); the modules
beside it hold the checks by subject and ``checklist.CHECKS`` lists them in go-live order.
A check of something undeclared is not run: the suite skips it naming the declaration,
selftest leaves it out of its checklist.

Run by both: declarations, implemented, coroutines, scrub, undeclared_refused, quota, the
issue checks per invoice kind, query, duplicate, documents per format, delivery per channel,
callbacks, red_full, red_partial, over_reversal_refused, invalid_input_refused, auth_refused.

Run by the conformance suite only, as they need what only a plugin's own tests have:

* ``red_lapse``: the 72-hour lapse of a red form needs the sandbox clock moved forward
  (``ConformanceHarness.advance_clock``); a profile's clock cannot move, and a sandbox
  started through its entry point offers no clock to a tool.
* ``declared_errors``: the plugin's bad input for each canonical code it can produce
  (``ConformanceHarness.bad_inputs``: a sandbox account's credit line, an unregistered
  buyer); a profile has no such list, so selftest checks the two any environment can
  (``invalid_input_refused``, ``auth_refused``).
* ``issue_own_invoices``: the plugin's own blue invoices (``ConformanceHarness.invoices``).
* ``transport_logs_scrubbed``: turns fapiao's loggers to DEBUG for an issue; in production
  that would send every transport line through the application's own log handlers.

Run by selftest only:

* ``red_confirm``: the seller confirms a red form the buyer raised on a used invoice. Only a
  sandbox starter's ``RunningSandbox.mark_used`` promises a sandbox taking the buyer's
  application this way; ``ConformanceHarness.mark_used`` promises less (a form on the used
  invoice waits for the other party, which ``red_lapse`` needs), and Nuonuo's sandbox, for
  one, takes a buyer's application only from the buyer's own account.
"""

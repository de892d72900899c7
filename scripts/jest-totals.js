// Prints jest's totals as one line, "N passed, N failed", from one or more of its --json output files (the suite
// runs in several jest processes: the unit tier, the stack tier and the chaos tier; see scripts/test.sh).
const fs = require('node:fs');
const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['.data/jest-results.json'];
let passed = 0;
let failed = 0;
let suitesFailed = 0;
let found = 0;
for (const file of files) {
  if (!fs.existsSync(file)) continue;
  found++;
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  suitesFailed += Math.max(
    0,
    r.numFailedTestSuites - r.testResults.filter((s) => s.assertionResults.some((a) => a.status === 'failed')).length,
  );
}
if (found === 0) {
  console.log('0 passed, 0 failed (no jest results: the run stopped before the tests)');
  process.exit(1);
}
const extra = suitesFailed > 0 ? ` (${suitesFailed} test files failed to run)` : '';
console.log(`${passed} passed, ${failed + suitesFailed} failed${extra}`);

// Prints jest's totals as one line, "N passed, N failed", from its --json output file.
const fs = require('node:fs');
const file = process.argv[2] || '.data/jest-results.json';
if (!fs.existsSync(file)) {
  console.log('0 passed, 0 failed (no jest results: the run stopped before the tests)');
  process.exit(1);
}
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
const suitesFailed = r.numFailedTestSuites - r.testResults.filter((s) => s.assertionResults.some((a) => a.status === 'failed')).length;
const extra = suitesFailed > 0 ? ` (${suitesFailed} test files failed to run)` : '';
console.log(`${r.numPassedTests} passed, ${r.numFailedTests + Math.max(0, suitesFailed)} failed${extra}`);

/**
 * Ends a jest run with one plain line, `N passed, N failed, N skipped`, that CI reads. It is written at
 * process exit so that it is the last line, after jest's own summary.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    // A suite that fails to run (a compile or import error) runs no tests: count it as a failure, not as nothing.
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`;
    process.once('exit', () => process.stdout.write(line));
  }
}
module.exports = SummaryReporter;

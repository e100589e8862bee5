/** JUnit XML for CI dashboards: one test case per capture and check. */
import type { CaptureSummary } from '../pipeline.js';
import type { CheckResult } from '../detect/checks.js';
import { printable } from '../reader/index.js';

/** Text for an XML attribute or element: what XML 1.0 cannot hold (controls, U+FFFE, lone surrogates) shown as by `printable`, then the markup escaped. */
function esc(s: string): string {
  return printable(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export interface CaptureChecks {
  summary: CaptureSummary;
  results: CheckResult[];
  /** --allow-truncated was given: a cut-short capture passes "readable". */
  allowTruncated: boolean;
}

export function renderJunit(captures: CaptureChecks[]): string {
  const cases: string[] = [];
  let failures = 0;
  for (const { summary: s, results, allowTruncated } of captures) {
    const cls = esc(s.name === '-' ? '<stdin>' : s.name);
    const unreadable = s.status === 'error' || s.status === 'interrupted' || (s.status === 'truncated' && !allowTruncated);
    if (unreadable) failures++;
    cases.push(
      `    <testcase classname="${cls}" name="readable">` +
        (unreadable ? `<failure message="${esc(s.error ?? s.status)}" type="${s.status}"/>` : '') +
        `</testcase>`,
    );
    for (const r of results) {
      // A capture not read to its end was not checked: its findings are not all there to pass.
      const unchecked = !r.failed && s.status === 'error';
      if (r.failed || unchecked) failures++;
      const name = esc(`fail-on ${r.check.text}`);
      const failure = r.failed
        ? `<failure message="${esc(r.measured)}" type="fail-on"/>`
        : unchecked
          ? `<failure message="${esc(`not checked: the capture was not read to its end (${s.error ?? s.status}); of what was read: ${r.measured}`)}" type="unreadable"/>`
          : `<system-out>${esc(r.measured)}</system-out>`;
      cases.push(`    <testcase classname="${cls}" name="${name}">${failure}</testcase>`);
    }
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tcpstate" tests="${cases.length}" failures="${failures}">`,
    `  <testsuite name="tcpstate analyze" tests="${cases.length}" failures="${failures}" errors="0" skipped="0">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

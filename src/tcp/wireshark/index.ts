/** Per-packet TCP sequence analysis in Wireshark's terms (tshark 4.0.17 `tcp.analysis.*`). */
export { SequenceAnalyzer, AnalysisResult, type SequenceAnalyzerOptions, type TcpSegmentView } from './seq-analysis.js';
export { AnalysisFlag, ANY_RETRANSMISSION, TSHARK_FIELDS, FLAG_TAGS, flagNames } from './flags.js';
export { WSCALE_NOT_USED, WSCALE_UNKNOWN } from './conversation.js';

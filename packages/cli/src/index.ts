/** `@brook/cli` as a library: the program, and the bench objects for scripts that measure from code. */
export { brookProgram, errorLine } from './program';
export { BenchSuite, type BenchReport, type BenchSettings } from './bench/BenchSuite';
export { benchResult, benchTable, mergeSamples, type BenchMode, type BenchResult, type BenchSample } from './bench/BenchResult';
export { ProduceBench, type ProduceBenchOptions } from './bench/ProduceBench';
export { ConsumeBench, type ConsumeBenchOptions } from './bench/ConsumeBench';
export { LatencyBench, type LatencyBenchOptions } from './bench/LatencyBench';
export { JsonProduceBench, type JsonProduceBenchOptions } from './bench/JsonProduceBench';
export { LatencyHistogram, type LatencySummary } from './bench/LatencyHistogram';
export { renderTable, type Column } from './output';

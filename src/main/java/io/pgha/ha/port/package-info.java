/**
 * The ports of the HA loop: everything {@link io.pgha.ha.HaLoop} and {@link io.pgha.ha.ActionExecutor} do to the
 * world goes through these small interfaces. Production implements them over Vert.x, Curator and the postgres
 * supervisor ({@code io.pgha.ha.vertx}); the simulation implements them over in-memory models ({@code io.pgha.sim}).
 *
 * <p>Rules every implementation keeps:
 * <ul>
 *   <li>every {@code CompletionStage} completes <b>on the loop's thread</b> (production: the HA verticle's context;
 *       simulation: its single thread), so the driver is single-threaded and deterministic;</li>
 *   <li>no method blocks: a file read, a fork or a network call is started and answered later;</li>
 *   <li>a failure is a failed stage whose message says why; nothing throws out of a port method.</li>
 * </ul>
 */
package io.pgha.ha.port;

/**
 * The cluster-wide event stream (issue 3, item 6): observations only, never an input to an HA decision.
 *
 * <ul>
 *   <li>{@link io.pgha.events.EventStream}: a clustered Vert.x instance of its own per agent (vertx-zookeeper on the
 *       same ensemble, under {@code /pgha-events/<scope>}), address {@code pgha.events.<scope>}; self-healing.
 *   <li>{@link io.pgha.events.EventsRoute}: {@code GET /events} as Server-Sent Events.
 *   <li>{@link io.pgha.events.EventBridge}: the agent's local bus (postmaster, status, decisions, and
 *       {@link io.pgha.events.EventBridge#ADDRESS}) to the stream, so the HA loop never touches the stream itself.
 *   <li>{@link io.pgha.events.Events}: the event types and their fields.
 * </ul>
 *
 * <h2>The vertx-zookeeper 5.0.7 session-expiry defect, as verified here ({@code SessionExpiryTest})</h2>
 * {@code ZookeeperClusterManager.childEvent} sets {@code joined = false} on {@code CONNECTION_LOST} and, on
 * {@code CONNECTION_RECONNECTED}, re-creates the node's ephemeral {@code /cluster/nodes/<nodeId>} (and re-applies its
 * {@code NodeInfo}) only {@code if (joined)}. A session expiry deletes that entry on the server and always goes through
 * LOST before RECONNECTED, so the entry never comes back. Seen with two, then three, plain clustered instances on an
 * in-JVM ZooKeeper 3.9.5, b's session expired by the twin-connection trick (Curator logs "Session expired event
 * received", LOST, then RECONNECTED with a new session id):
 * <ul>
 *   <li>b's subscriptions ARE re-created ({@code SubsMapHelper} re-puts them on RECONNECTED, no such flag), but
 *       {@code /cluster/nodes/b} stays absent, and b is missing from {@code getNodes()} on a and on b itself.
 *   <li>Connections opened before the expiry keep working: a still reaches b, b still reaches a. The defect is latent.
 *   <li>Any new connection to b fails: c, joining after the expiry, publishes; a receives, b never does, and c logs
 *       "Connecting to server b failed: Not a member of the cluster" for every attempt. The same happens to a as soon
 *       as its connection to b drops (a restart of a, a ping timeout, a network blip): b is deaf to the cluster from
 *       then on, for the life of the process.
 * </ul>
 * Workaround: the event stream treats the loss of its session as fatal for the clustered instance and rebuilds it
 * (closes it, then a new Curator client, cluster manager, Vert.x and node id), on Curator's {@code LOST} and, as a
 * second line, when a watchdog finds its own node id missing from {@code getNodes()} twice in a row while connected.
 * Measured: events flow both ways again about 2-3 s after the expiry (test bound 20 s). Closing the old instance while
 * ZooKeeper is unreachable never completes on its own (vertx-zookeeper's background unregister waits for the
 * ensemble): teardown then closes the Curator client first, which lets it finish, and is bounded by a timeout anyway.
 */
package io.pgha.events;

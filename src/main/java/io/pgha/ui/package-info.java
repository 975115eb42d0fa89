/**
 * The web view (issue 14): {@link io.pgha.ui.UiRoute} serves {@code GET /ui/} (one page: {@code index.html},
 * {@code app.js}, {@code app.css} from {@code io/pgha/ui/} in the jar) on every member's REST port, and
 * {@link io.pgha.ui.MemberOrigins} lets a page served by one member call the others (CORS limited to the members'
 * {@code api_url} origins). The page only reads the REST API ({@code /cluster}, {@code /history}, {@code /config},
 * {@code /events}) and calls its actions; nothing here touches ZooKeeper, postgres or the HA loop.
 */
package io.pgha.ui;

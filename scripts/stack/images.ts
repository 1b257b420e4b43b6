/**
 * The images docker-compose.yml runs, and the user each runs as: the image's own, by the ids the
 * image gives it. The render gives each the files it reads (render.ts), and a test walks that
 * tree as these ids (docker-tree.test.ts).
 */
export const IMAGES = {
  render: "node:20-bookworm",
  workerd: "node:20-bookworm-slim",
  nginx: "nginx:1.27-bookworm",
  exporter: "nginx/nginx-prometheus-exporter:1.3.0",
  prometheus: "prom/prometheus:v2.53.2",
  alertmanager: "prom/alertmanager:v0.27.0",
  nodeExporter: "prom/node-exporter:v1.8.2",
  grafana: "grafana/grafana:11.2.2",
};

export const IMAGE_USERS = {
  /** The node image's user, for workerd. */
  workerd: { name: "node", uid: 1000, gid: 1000 },
  /** The nginx image's user, for nginx's workers (its master stays root, for the ports). */
  nginx: { name: "nginx", uid: 101, gid: 101 },
  /** The Prometheus image's user. */
  prometheus: { name: "nobody", uid: 65534, gid: 65534 },
  /** The Grafana image's user, in group root as the image has it. */
  grafana: { name: "grafana", uid: 472, gid: 0 },
};

import { configYaml } from "./repo.ts";

/**
 * A repository whose groups select by address and host name (and one by tag too): what the
 * selector tests of every protocol serve.
 */
export const SELECTOR_REPO = {
  "configs/base.yaml": configYaml("base", "a: 1\n"),
  "configs/lan.yaml": configYaml("lan", "a: 2\n"),
  "configs/range.yaml": configYaml("range", "a: 3\n"),
  "configs/web.yaml": configYaml("web", "a: 4\n"),
  "configs/tagged.yaml": configYaml("tagged", "a: 5\n"),
  "agent_groups/default.yaml": "group_name: default\nconfigs: [base]\n",
  "agent_groups/lan.yaml": "group_name: lan\nips: [10.1.0.0/16]\nconfigs: [lan]\n",
  "agent_groups/range.yaml": "group_name: range\nips: [192.168.1.200-230, 172.16.0.1-172.16.0.9]\nconfigs: [range]\n",
  "agent_groups/web.yaml": "group_name: web\nhostnames: ['web-*', '*.prod.example.com']\nconfigs: [web]\n",
  // Any tag OR any address OR any host name.
  "agent_groups/mixed.yaml": "group_name: mixed\ntags: [{name: env, value: staging}]\nips: [10.9.0.0/16]\nhostnames: ['db-?']\nconfigs: [tagged]\n",
};

// Starts GraphiQL on the page Plait serves at the GraphQL path. Everything it loads comes from the
// same server (no CDN); the endpoint is read from the element's data attribute.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint");
  var options = { url: endpoint, headers: { "GraphQL-Require-Preflight": "1" } };
  if (root.getAttribute("data-subscriptions") === "true" && window.graphqlWs) {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    options.wsClient = window.graphqlWs.createClient({ url: scheme + window.location.host + endpoint, lazy: true });
  }
  var fetcher = window.GraphiQL.createFetcher(options);
  var element = window.React.createElement(window.GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true });
  window.ReactDOM.render(element, root);
})();

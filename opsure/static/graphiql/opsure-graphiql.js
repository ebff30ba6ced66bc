// Opsure's GraphiQL page: the IDE against this server's /graphql, nothing from elsewhere.
//
// Loaded after React, ReactDOM and GraphiQL (UMD builds served by Opsure itself), under a
// Content-Security-Policy that allows scripts, styles and connections to this origin only.
// The bearer token goes in the headers editor: {"Authorization": "Bearer <token>"}. It is
// kept in memory only (not in localStorage): a token can read medical data.
(function () {
  "use strict";

  var params = new URLSearchParams(window.location.search);
  var endpoint = window.location.origin + window.location.pathname;
  var socket = new URL(endpoint);
  socket.protocol = socket.protocol === "https:" ? "wss:" : "ws:";

  var fetcher = GraphiQL.createFetcher({ url: endpoint, subscriptionUrl: socket.toString() });

  function keepInUrl(name) {
    return function (value) {
      if (value) {
        params.set(name, value);
      } else {
        params.delete(name);
      }
      var search = params.toString();
      window.history.replaceState(null, "", window.location.pathname + (search ? "?" + search : ""));
    };
  }

  var ide = React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: "# Opsure GraphQL API. Sign in in the Headers tab:\n" +
      '# {"Authorization": "Bearer <token>"}\n' +
      "# (a token: opsure token --role admin)\n\n" +
      "{\n  products {\n    code\n    name\n  }\n}\n",
    query: params.get("q") || undefined,
    variables: params.get("variables") || undefined,
    onEditQuery: keepInUrl("q"),
    onEditVariables: keepInUrl("variables"),
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    inputValueDeprecation: true,
  });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(ide);
})();

using Yarp.ReverseProxy.Configuration;

// A YARP reverse proxy that forwards every request to one destination, as it comes: the cheapest a
// proxy in .NET can be, against which Baton's own work is measured.
//   YarpPassthrough --urls http://127.0.0.1:18082 --destination http://127.0.0.1:18081/
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var destination = builder.Configuration["destination"] ?? "http://127.0.0.1:18081/";

builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "{**catch-all}" } }],
    [new ClusterConfig
    {
        ClusterId = "upstream",
        Destinations = new Dictionary<string, DestinationConfig> { ["upstream"] = new() { Address = destination } },
    }]);

var app = builder.Build();
app.MapReverseProxy();
app.Run();

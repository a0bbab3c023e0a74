using System.Net;
using BenchmarkDotNet.Attributes;
using Baton.Configuration;
using Baton.Gateway.Endpoints;
using Baton.Gateway.Security;
using Baton.Requests;
using Microsoft.AspNetCore.Http;

namespace Baton.Benchmarks;

/// <summary>
/// What every request now pays for the hostile-input guards: the Host check against DNS rebinding, the
/// <c>Content-Type</c> check, and the check that every JSON string decodes (part of <c>ChatRequestParser.Parse</c>).
/// </summary>
[MemoryDiagnoser]
public class HostileInputBenchmarks
{
    private readonly LoopbackHostFilter _defaultHosts = new(new GatewayOptions());
    private readonly LoopbackHostFilter _configuredHosts = new(new GatewayOptions { AllowedHosts = ["baton.internal", "gateway.example", "10.0.0.5"] });
    private readonly DefaultHttpContext _loopback = Request(IPAddress.Loopback, "127.0.0.1:8080");
    private readonly DefaultHttpContext _allowedName = Request(IPAddress.Loopback, "gateway.example:8080");
    private readonly DefaultHttpContext _network = Request(IPAddress.Parse("10.0.0.5"), "10.0.0.5:8080");

    private static DefaultHttpContext Request(IPAddress local, string host)
    {
        var http = new DefaultHttpContext();
        http.Connection.LocalIpAddress = local;
        http.Request.Headers.Host = host;
        return http;
    }

    [Benchmark(Baseline = true)]
    public bool HostCheckLoopback() => _defaultHosts.Allows(_loopback);

    [Benchmark]
    public bool HostCheckConfiguredName() => _configuredHosts.Allows(_allowedName);

    [Benchmark]
    public bool HostCheckNotOnLoopback() => _defaultHosts.Allows(_network);

    [Benchmark]
    public bool ContentTypeJson() => RequestBodies.IsJson("application/json");

    [Benchmark]
    public bool ContentTypeJsonWithCharset() => RequestBodies.IsJson("application/json; charset=utf-8");

    [Benchmark]
    public int StringCheck()
    {
        JsonStringCheck.Validate(Payloads.Request);
        return Payloads.Request.Length;
    }

    [Benchmark]
    public int StringCheckLongConversation()
    {
        JsonStringCheck.Validate(Payloads.LongRequest);
        return Payloads.LongRequest.Length;
    }
}

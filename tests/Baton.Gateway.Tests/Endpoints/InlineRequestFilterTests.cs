using Baton.Gateway.Endpoints;
using Microsoft.AspNetCore.Http;

namespace Baton.Gateway.Tests.Endpoints;

/// <summary>
/// Where the chat endpoint's request filter runs: in its handler when nothing else filters the endpoint (so that ASP.NET
/// Core runs no filter pipeline for it), and as the outermost endpoint filter when an application adds filters of its own.
/// </summary>
public sealed class InlineRequestFilterTests
{
    private static readonly EndpointFilterFactoryContext Context = new()
    {
        MethodInfo = typeof(InlineRequestFilterTests).GetMethod(nameof(Handler), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!,
        ApplicationServices = EmptyServices.Instance,
    };

    private static Task Handler(HttpContext http, GatewayRequestFilter? filter) => Task.CompletedTask;

    [Fact]
    public void Alone_on_its_endpoint_it_leaves_the_handler_unwrapped_and_runs_in_it()
    {
        var inline = new InlineRequestFilter(new GatewayRequestFilter(new GatewayServices(EmptyServices.Instance)), Handler);
        EndpointFilterDelegate handler = _ => ValueTask.FromResult<object?>(null);

        var innermost = inline.MarkInnermost(Context, handler);
        var outermost = inline.Apply(Context, innermost);

        Assert.Same(handler, innermost);
        Assert.Same(handler, outermost);
        Assert.True(inline.RunsInline);
    }

    [Fact]
    public void With_another_filter_on_its_endpoint_it_wraps_that_filter_and_the_handler_does_not_run_it_again()
    {
        var inline = new InlineRequestFilter(new GatewayRequestFilter(new GatewayServices(EmptyServices.Instance)), Handler);
        EndpointFilterDelegate handler = _ => ValueTask.FromResult<object?>(null);

        var innermost = inline.MarkInnermost(Context, handler);
        EndpointFilterDelegate applications = context => innermost(context);
        var outermost = inline.Apply(Context, applications);

        Assert.NotSame(applications, outermost);
        Assert.False(inline.RunsInline);
    }

    [Fact]
    public void The_groups_other_endpoints_get_the_filter_and_leave_the_chat_endpoint_as_it_was()
    {
        var inline = new InlineRequestFilter(new GatewayRequestFilter(new GatewayServices(EmptyServices.Instance)), Handler);
        inline.Apply(Context, inline.MarkInnermost(Context, _ => ValueTask.FromResult<object?>(null)));
        EndpointFilterDelegate other = _ => ValueTask.FromResult<object?>(null);

        var wrapped = inline.Apply(Context, other);

        Assert.NotSame(other, wrapped);
        Assert.True(inline.RunsInline, "building another endpoint changed where the chat endpoint's filter runs");
    }

    [Fact]
    public async Task The_handler_is_given_the_filter_to_run_only_when_no_filter_pipeline_runs_it()
    {
        var filter = new GatewayRequestFilter(new GatewayServices(EmptyServices.Instance));
        var given = new List<GatewayRequestFilter?>();
        Task Recording(HttpContext http, GatewayRequestFilter? runs)
        {
            given.Add(runs);
            return Task.CompletedTask;
        }
        var alone = new InlineRequestFilter(filter, Recording);
        alone.Apply(Context, alone.MarkInnermost(Context, _ => ValueTask.FromResult<object?>(null)));
        var wrapped = new InlineRequestFilter(filter, Recording);
        EndpointFilterDelegate applications = _ => ValueTask.FromResult<object?>(null);
        wrapped.MarkInnermost(Context, _ => ValueTask.FromResult<object?>(null));
        wrapped.Apply(Context, applications);

        await alone.HandleAsync(new DefaultHttpContext());
        await wrapped.HandleAsync(new DefaultHttpContext());

        Assert.Same(filter, given[0]);
        Assert.Null(given[1]);
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}

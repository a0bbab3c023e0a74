using Baton.Cli.Commands;
using Baton.Configuration;

namespace Baton.Gateway.Tests.Cli;

/// <summary>Relative file paths of the configuration are anchored to the command's working directory.</summary>
public sealed class CommonOptionsTests
{
    [Fact]
    public void A_relative_jobs_database_is_relative_to_the_working_directory_like_the_ledger()
    {
        var workingDirectory = Path.Combine(Path.GetTempPath(), "baton-anchor");
        var options = new BatonOptions();
        options.Ledger.Path = "data/baton.db";
        options.Batch.JobsDatabase = "data/baton-batches.db";

        CommonOptions.AnchorFiles(options, workingDirectory);

        Assert.Equal(Path.Combine(workingDirectory, "data", "baton.db"), options.Ledger.Path);
        Assert.Equal(Path.Combine(workingDirectory, "data", "baton-batches.db"), options.Batch.JobsDatabase);
    }
}

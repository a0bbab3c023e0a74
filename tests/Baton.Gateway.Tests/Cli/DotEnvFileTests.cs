using Baton.Cli;

namespace Baton.Gateway.Tests.Cli;

public sealed class DotEnvFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("baton-dotenv-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Dot_env_supplies_keys_without_overriding_the_environment()
    {
        var variable = "BATON_TEST_KEY_" + Guid.NewGuid().ToString("N");
        var preset = "BATON_TEST_PRESET_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(preset, "from-environment");
        try
        {
            File.WriteAllText(Path.Combine(_directory, ".env"), $"{variable}=from-dotenv\n{preset}=from-dotenv\n");
            DotEnvFile.Load(_directory);
            Assert.Equal("from-dotenv", Environment.GetEnvironmentVariable(variable));
            Assert.Equal("from-environment", Environment.GetEnvironmentVariable(preset));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
            Environment.SetEnvironmentVariable(preset, null);
        }
    }
}

using Baton.Analysis;

namespace Baton.Core.Tests.Analysis;

public sealed class ContentRulesTests
{
    [Fact]
    public void Markdown_headings_skip_code_blocks_and_closing_hashes()
    {
        var sections = MarkdownHeadings.Read("# Title #\n#not a heading\n```\n# comment\n```\n    # indented code\n### Deep\r\n~~~\n## inside\n~~~\n###### Six\n####### Seven\n");

        Assert.Equal([new ReadmeSection(1, "Title"), new ReadmeSection(3, "Deep"), new ReadmeSection(6, "Six")], sections);
    }

    [Theory]
    [InlineData("Permission is hereby granted, free of charge, to any person", "MIT")]
    [InlineData("Apache License\n Version 2.0, January 2004", "Apache-2.0")]
    [InlineData("GNU GENERAL PUBLIC LICENSE\n Version 3, 29 June 2007", "GPL-3.0")]
    [InlineData("GNU GENERAL PUBLIC LICENSE\n Version 2, June 1991", "GPL-2.0")]
    [InlineData("GNU AFFERO GENERAL PUBLIC LICENSE Version 3", "AGPL-3.0")]
    [InlineData("GNU LESSER GENERAL PUBLIC LICENSE Version 3", "LGPL-3.0")]
    [InlineData("Mozilla Public License Version 2.0", "MPL-2.0")]
    [InlineData("Redistribution and use in source and binary forms ... Neither the name of", "BSD-3-Clause")]
    [InlineData("Redistribution and use in source and binary forms, with or without", "BSD-2-Clause")]
    [InlineData("This is free and unencumbered software released into the public domain.", "Unlicense")]
    [InlineData("Permission to use, copy, modify, and/or distribute this software for any purpose", "ISC")]
    [InlineData("All rights reserved. Do not copy.", null)]
    public void Licences_are_recognised_by_their_text(string text, string? expected)
    {
        Assert.Equal(expected, LicenseClassifier.KindOf(text));
    }

    [Theory]
    [InlineData("pyproject.toml", "[project]\nname = \"x\"\ndependencies = [\n  \"httpx>=0.27\",  # http\n  \"pydantic\",\n]\n\n[tool.ruff]\nline-length = 100\n", 2, null)]
    [InlineData("pyproject.toml", "[project]\ndependencies = [\"a\", \"b\", \"c\"]\n", 3, null)]
    [InlineData("pyproject.toml", "[tool.poetry.dependencies]\npython = \"^3.12\"\nfastapi = \"*\"\n\n[tool.poetry.group.dev.dependencies]\npytest = \"*\"\n", 1, 1)]
    [InlineData("Cargo.toml", "[package]\nname = \"x\"\n\n[dependencies]\nserde = { version = \"1\" }\ntokio = \"1\"\n\n[dev-dependencies]\ninsta = \"1\"\n", 2, 1)]
    [InlineData("Pipfile", "[packages]\nrequests = \"*\"\n\n[dev-packages]\npytest = \"*\"\nblack = \"*\"\n", 1, 2)]
    [InlineData("composer.json", "{\"require\":{\"php\":\">=8.2\",\"laravel/framework\":\"^11\"},\"require-dev\":{\"phpunit/phpunit\":\"^11\"}}", 2, 1)]
    [InlineData("Gemfile", "source 'https://rubygems.org'\ngem 'rails'\ngem 'pg'\n", 2, null)]
    [InlineData("pom.xml", "<project><dependencies><dependency/><dependency/></dependencies></project>", 2, null)]
    [InlineData("requirements-dev.txt", "pytest\n# c\nruff\n", 2, null)]
    [InlineData("package.json", "{\"name\":\"x\"}", 0, 0)]
    public void Manifest_dependencies_are_counted(string name, string text, int? dependencies, int? devDependencies)
    {
        var ecosystem = DependencyManifests.EcosystemOf(name);
        Assert.NotNull(ecosystem);

        var manifest = DependencyManifests.Describe(name, ecosystem, text);

        Assert.Equal(dependencies, manifest.Dependencies);
        Assert.Equal(devDependencies, manifest.DevDependencies);
    }

    [Fact]
    public void Uncountable_or_malformed_manifests_are_found_but_not_counted()
    {
        Assert.Equal(new DependencyManifest("build.gradle", "java", null, null), DependencyManifests.Describe("build.gradle", "java", "dependencies { implementation 'x' }"));
        Assert.Equal(new DependencyManifest("package.json", "nodejs", null, null), DependencyManifests.Describe("package.json", "nodejs", "{ not json"));
    }

    [Theory]
    [InlineData("fly.toml", nameof(DeploymentFileKind.Hosting))]
    [InlineData("Procfile", nameof(DeploymentFileKind.Hosting))]
    [InlineData("compose.yaml", nameof(DeploymentFileKind.Compose))]
    [InlineData("deploy/docker-compose.prod.yml", nameof(DeploymentFileKind.Compose))]
    [InlineData("Jenkinsfile", nameof(DeploymentFileKind.Ci))]
    [InlineData(".gitlab-ci.yml", nameof(DeploymentFileKind.Ci))]
    [InlineData(".circleci/config.yml", nameof(DeploymentFileKind.Ci))]
    [InlineData("charts/web/Chart.yaml", nameof(DeploymentFileKind.HelmChart))]
    [InlineData(".env.sample", nameof(DeploymentFileKind.EnvExample))]
    [InlineData("infra/main.tf", nameof(DeploymentFileKind.InfrastructureAsCode))]
    [InlineData("src/app.py", nameof(DeploymentFileKind.None))]
    public void Deployment_files_are_recognised_by_path(string path, string expected)
    {
        Assert.Equal(Enum.Parse<DeploymentFileKind>(expected), DeploymentFiles.KindOf(path));
    }

    [Fact]
    public void Kubernetes_manifests_need_api_version_and_kind_in_one_document()
    {
        Assert.True(DeploymentFiles.LooksLikeKubernetesManifest("---\napiVersion: v1\nkind: Service\n"));
        Assert.True(DeploymentFiles.LooksLikeKubernetesManifest("apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\n"));
        Assert.False(DeploymentFiles.LooksLikeKubernetesManifest("apiVersion: v1\n---\nkind: Service\n"));
        Assert.False(DeploymentFiles.LooksLikeKubernetesManifest("spec:\n  apiVersion: v1\n  kind: x\n"));
    }
}

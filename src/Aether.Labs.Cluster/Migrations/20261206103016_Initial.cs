using System;
using System.Net;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Aether.Labs.Cluster.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateSequence<int>(
                name: "cluster_vni_seq",
                startValue: 4096L,
                minValue: 4096L,
                maxValue: 16777215L,
                cyclic: true);

            migrationBuilder.CreateTable(
                name: "cluster_hosts",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    underlay = table.Column<IPAddress>(type: "inet", nullable: false),
                    agent_pid = table.Column<int>(type: "integer", nullable: true),
                    version = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    registered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    last_seen = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_hosts", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "cluster_vnis",
                columns: table => new
                {
                    lab = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    scope = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    key = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    vni = table.Column<int>(type: "integer", nullable: false),
                    allocated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_vnis", x => new { x.lab, x.scope, x.key });
                    table.CheckConstraint("ck_cluster_vnis_scope", "scope IN ('link', 'tunnel')");
                });

            migrationBuilder.CreateTable(
                name: "cluster_link_ends",
                columns: table => new
                {
                    lab = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    link_id = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    link_end = table.Column<string>(type: "character varying(1)", maxLength: 1, nullable: false),
                    host_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    state = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    message = table.Column<string>(type: "text", nullable: true),
                    checked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_link_ends", x => new { x.lab, x.link_id, x.link_end });
                    table.CheckConstraint("ck_cluster_link_ends_end", "link_end IN ('a', 'b')");
                    table.CheckConstraint("ck_cluster_link_ends_state", "state IN ('up', 'down', 'error')");
                    table.ForeignKey(
                        name: "fk_cluster_link_ends_host",
                        column: x => x.host_id,
                        principalTable: "cluster_hosts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "cluster_placements",
                columns: table => new
                {
                    lab = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    node = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    host_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_placements", x => new { x.lab, x.node });
                    table.ForeignKey(
                        name: "fk_cluster_placements_host",
                        column: x => x.host_id,
                        principalTable: "cluster_hosts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "cluster_vteps",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    lab = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    host_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    remote_host_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    port_name = table.Column<string>(type: "character varying(15)", maxLength: 15, nullable: false),
                    vni = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_vteps", x => x.id);
                    table.CheckConstraint("ck_cluster_vteps_remote", "remote_host_id <> host_id");
                    table.ForeignKey(
                        name: "fk_cluster_vteps_host",
                        column: x => x.host_id,
                        principalTable: "cluster_hosts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_cluster_vteps_remote_host",
                        column: x => x.remote_host_id,
                        principalTable: "cluster_hosts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "cluster_vtep_links",
                columns: table => new
                {
                    vtep_id = table.Column<long>(type: "bigint", nullable: false),
                    link_id = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    attached_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_vtep_links", x => new { x.vtep_id, x.link_id });
                    table.ForeignKey(
                        name: "fk_cluster_vtep_links_vtep",
                        column: x => x.vtep_id,
                        principalTable: "cluster_vteps",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_cluster_link_ends_host",
                table: "cluster_link_ends",
                column: "host_id");

            migrationBuilder.CreateIndex(
                name: "ix_cluster_placements_host",
                table: "cluster_placements",
                column: "host_id");

            migrationBuilder.CreateIndex(
                name: "ux_cluster_vnis_vni",
                table: "cluster_vnis",
                column: "vni",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_cluster_vteps_remote_host",
                table: "cluster_vteps",
                column: "remote_host_id");

            migrationBuilder.CreateIndex(
                name: "ux_cluster_vteps_host_port",
                table: "cluster_vteps",
                columns: new[] { "host_id", "port_name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ux_cluster_vteps_lab_host_remote",
                table: "cluster_vteps",
                columns: new[] { "lab", "host_id", "remote_host_id" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "cluster_link_ends");

            migrationBuilder.DropTable(
                name: "cluster_placements");

            migrationBuilder.DropTable(
                name: "cluster_vnis");

            migrationBuilder.DropTable(
                name: "cluster_vtep_links");

            migrationBuilder.DropTable(
                name: "cluster_vteps");

            migrationBuilder.DropTable(
                name: "cluster_hosts");

            migrationBuilder.DropSequence(
                name: "cluster_vni_seq");
        }
    }
}

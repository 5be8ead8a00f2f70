using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Aether.Labs.Cluster.Migrations
{
    /// <inheritdoc />
    public partial class FrameProbes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "cluster_probes",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    lab = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    link_id = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    sender_host = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    sender_namespace = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    sender_interface = table.Column<string>(type: "character varying(15)", maxLength: 15, nullable: false),
                    receiver_host = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    receiver_namespace = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    receiver_interface = table.Column<string>(type: "character varying(15)", maxLength: 15, nullable: false),
                    nonce = table.Column<byte[]>(type: "bytea", nullable: false),
                    timeout_ms = table.Column<int>(type: "integer", nullable: false),
                    state = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: false),
                    problem = table.Column<string>(type: "text", nullable: true),
                    latency_ms = table.Column<double>(type: "double precision", nullable: true),
                    requested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    listening_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    sent_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    done_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_probes", x => x.id);
                    table.CheckConstraint("ck_cluster_probes_nonce", "length(nonce) = 16");
                    table.CheckConstraint("ck_cluster_probes_state", "state IN ('requested', 'listening', 'sent', 'crossed', 'failed')");
                    table.CheckConstraint("ck_cluster_probes_timeout", "timeout_ms BETWEEN 1 AND 60000");
                    table.ForeignKey(
                        name: "fk_cluster_probes_receiver",
                        column: x => x.receiver_host,
                        principalTable: "cluster_hosts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_cluster_probes_sender",
                        column: x => x.sender_host,
                        principalTable: "cluster_hosts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_cluster_probes_lab_link",
                table: "cluster_probes",
                columns: new[] { "lab", "link_id" });

            migrationBuilder.CreateIndex(
                name: "ix_cluster_probes_receiver_state",
                table: "cluster_probes",
                columns: new[] { "receiver_host", "state" });

            migrationBuilder.CreateIndex(
                name: "ix_cluster_probes_sender_state",
                table: "cluster_probes",
                columns: new[] { "sender_host", "state" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "cluster_probes");
        }
    }
}

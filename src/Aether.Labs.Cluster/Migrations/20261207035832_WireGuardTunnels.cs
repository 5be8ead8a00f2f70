using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aether.Labs.Cluster.Migrations
{
    /// <inheritdoc />
    public partial class WireGuardTunnels : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "wireguard_key",
                table: "cluster_hosts",
                type: "character varying(44)",
                maxLength: 44,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "cluster_wireguard_tunnels",
                columns: table => new
                {
                    lab = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    host_a = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    host_b = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    slot = table.Column<int>(type: "integer", nullable: false),
                    allocated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_wireguard_tunnels", x => new { x.lab, x.host_a, x.host_b });
                    table.CheckConstraint("ck_cluster_wireguard_tunnels_hosts", "host_a COLLATE \"C\" < host_b COLLATE \"C\"");
                    table.CheckConstraint("ck_cluster_wireguard_tunnels_slot", "slot BETWEEN 0 AND 4095");
                    table.ForeignKey(
                        name: "fk_cluster_wireguard_tunnels_host_a",
                        column: x => x.host_a,
                        principalTable: "cluster_hosts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_cluster_wireguard_tunnels_host_b",
                        column: x => x.host_b,
                        principalTable: "cluster_hosts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_cluster_wireguard_tunnels_host_a",
                table: "cluster_wireguard_tunnels",
                column: "host_a");

            migrationBuilder.CreateIndex(
                name: "ix_cluster_wireguard_tunnels_host_b",
                table: "cluster_wireguard_tunnels",
                column: "host_b");

            migrationBuilder.CreateIndex(
                name: "ux_cluster_wireguard_tunnels_slot",
                table: "cluster_wireguard_tunnels",
                column: "slot",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "cluster_wireguard_tunnels");

            migrationBuilder.DropColumn(
                name: "wireguard_key",
                table: "cluster_hosts");
        }
    }
}

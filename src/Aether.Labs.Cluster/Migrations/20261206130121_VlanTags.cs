using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aether.Labs.Cluster.Migrations
{
    /// <inheritdoc />
    public partial class VlanTags : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "cluster_vlan_tags",
                columns: table => new
                {
                    lab = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    link_id = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    tag = table.Column<int>(type: "integer", nullable: false),
                    allocated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_vlan_tags", x => new { x.lab, x.link_id });
                    table.CheckConstraint("ck_cluster_vlan_tags_tag", "tag BETWEEN 100 AND 4094");
                });

            migrationBuilder.CreateIndex(
                name: "ux_cluster_vlan_tags_lab_tag",
                table: "cluster_vlan_tags",
                columns: new[] { "lab", "tag" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "cluster_vlan_tags");
        }
    }
}

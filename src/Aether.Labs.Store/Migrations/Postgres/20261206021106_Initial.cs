using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aether.Labs.Store.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "labs",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    fabric = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    definition = table.Column<string>(type: "text", nullable: false),
                    source_path = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_labs", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "link_states",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    lab_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    link_name = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    source_node = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    source_interface = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false),
                    target_node = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    target_interface = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false),
                    actual_state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    error_message = table.Column<string>(type: "text", nullable: true),
                    vlan_tag = table.Column<int>(type: "integer", nullable: true),
                    mtu = table.Column<int>(type: "integer", nullable: true),
                    checked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_link_states", x => x.id);
                    table.ForeignKey(
                        name: "fk_link_states_lab",
                        column: x => x.lab_id,
                        principalTable: "labs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "nodes",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    lab_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    kind = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false),
                    @namespace = table.Column<string>(name: "namespace", type: "character varying(255)", maxLength: 255, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_nodes", x => x.id);
                    table.ForeignKey(
                        name: "fk_nodes_lab",
                        column: x => x.lab_id,
                        principalTable: "labs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "interface_mappings",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    lab_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    node_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    ovs_port = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    ovs_bridge = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: true),
                    vlan_tag = table.Column<int>(type: "integer", nullable: true),
                    linux_interface = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    vendor_interface = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: true),
                    device_type = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_interface_mappings", x => x.id);
                    table.ForeignKey(
                        name: "fk_interface_mappings_lab",
                        column: x => x.lab_id,
                        principalTable: "labs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_interface_mappings_node",
                        column: x => x.node_id,
                        principalTable: "nodes",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_interface_mappings_lab",
                table: "interface_mappings",
                column: "lab_id");

            migrationBuilder.CreateIndex(
                name: "ix_interface_mappings_node",
                table: "interface_mappings",
                column: "node_id");

            migrationBuilder.CreateIndex(
                name: "ix_interface_mappings_ovs_port",
                table: "interface_mappings",
                column: "ovs_port");

            migrationBuilder.CreateIndex(
                name: "ux_interface_mappings_lab_node_linux",
                table: "interface_mappings",
                columns: new[] { "lab_id", "node_id", "linux_interface" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ux_labs_name",
                table: "labs",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_link_states_lab",
                table: "link_states",
                column: "lab_id");

            migrationBuilder.CreateIndex(
                name: "ux_nodes_lab_name",
                table: "nodes",
                columns: new[] { "lab_id", "name" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "interface_mappings");

            migrationBuilder.DropTable(
                name: "link_states");

            migrationBuilder.DropTable(
                name: "nodes");

            migrationBuilder.DropTable(
                name: "labs");
        }
    }
}

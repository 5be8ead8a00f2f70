using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aether.Labs.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AddLinkKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "link_key",
                table: "link_states",
                type: "TEXT",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "seq",
                table: "link_states",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "source_linux",
                table: "link_states",
                type: "TEXT",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "target_linux",
                table: "link_states",
                type: "TEXT",
                maxLength: 20,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "link_key",
                table: "link_states");

            migrationBuilder.DropColumn(
                name: "seq",
                table: "link_states");

            migrationBuilder.DropColumn(
                name: "source_linux",
                table: "link_states");

            migrationBuilder.DropColumn(
                name: "target_linux",
                table: "link_states");
        }
    }
}
